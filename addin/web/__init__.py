"""The reviewers' desk (issue 12): a web app on the review core and the claims ledger.

``green-award serve --ledger L`` serves one ledger: upload declarations (or a zip of them), review
them in the background with the same code as ``green-award review --ledger``, read the findings,
decide (grant, reduce, reject) and see each enterprise's claims against its caps. Reviewers log in
with accounts kept in the ledger (``green-award users add``). See docs/web.md.

- ``auth``: accounts (argon2), sessions and API tokens, CSRF tokens, the login rate limit;
- ``uploads``: uploads stored under generated names in a private folder; a zip checked, then expanded;
- ``jobs``: the background reviews (one thread; progress for the page to poll);
- ``views``: what each page shows, read from the ledger;
- ``app``: the FastAPI application (pages, JSON API, the middleware that guards every route);
- ``cli``: ``green-award serve`` and ``green-award users``.

Nothing here is imported by the other commands (FastAPI loads only for ``serve``).
"""

from __future__ import annotations
