"""The joint practice development exchange: people offer and seek practice topics, and are grouped
so that each gives and gains (issue 29; only the matching has landed so far)."""
