"""Request plumbing that every domain's API (``<domain>/api.py``) and the pages share: the
database transaction of a request, the logged-in user and their server-side session,
permissions, CSRF, and who reads customer data. Importing it never imports the web pages."""
