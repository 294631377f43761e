"""Verification: every claim of an answer checked against the paragraphs retrieved.

`verify` splits an answer into claims, checks each claim's markers, numbers and quotes against the
cited paragraph, repairs or drops what fails, and says why in Notices.

May import: analysis, language, and the base modules.
"""
