"""The coordinator commands, shared by Slack (`/pulse ...`) and Teams (`pulse ...`).

parser.py turns text into a Command, forms.py holds the new/edit survey form, and execute.py
checks the caller's role and runs the command through the domain. No chat platform types here.
"""
