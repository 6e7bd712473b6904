"""Staff accounts: users and their roles, passwords (argon2id), the login throttle and API tokens.

The web app (``entrypoints/web/auth.py``) and the command line (``kholuu user``, ``kholuu token``)
both go through here; each returns a :class:`repository.actor.Actor` for the person who logged in
or owns the token. The authenticator is one function, :func:`workflows.accounts.users.authenticate`;
an LDAP directory would plug in behind the :class:`workflows.accounts.directory.Directory`
interface (docs/web.md, "LDAP").
"""
