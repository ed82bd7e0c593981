"""Records: the file layout of a run, atomic writes, and reading runs back."""
