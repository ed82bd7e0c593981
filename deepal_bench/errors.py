"""The one exception type for bad user input, printed by the CLI as a single paragraph."""


class ConfigError(ValueError):
    """Bad configuration or input: the message names the key and the valid choices."""


def unknown_choice(key: str, value: object, choices: object) -> ConfigError:
    """Build the error for a value that is not one of the valid choices of `key`."""
    valid = ", ".join(sorted(str(c) for c in choices))
    return ConfigError(f"Unknown {key} '{value}'. Valid choices: {valid}.")
