"""The Microsoft Teams adapter: Agents SDK app, listeners, Adaptive Cards and the platform implementation."""
