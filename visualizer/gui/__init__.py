"""The desktop app: Qt widgets bound to the core's runs and records. Owns no computation."""
