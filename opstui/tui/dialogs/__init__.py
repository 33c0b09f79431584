"""tui/dialogs."""
