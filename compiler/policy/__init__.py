"""Policy engine: built-in Python rules and KCL policies, producing one Finding type."""
