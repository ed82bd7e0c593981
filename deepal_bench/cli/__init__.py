"""The console entry points: `deepal-bench` (run), `-data`, `-status`, `-plan`, `-report`,
`-paper`. Each parses its arguments, calls the package and turns a ConfigError into one
paragraph on stderr (exit status 2)."""
