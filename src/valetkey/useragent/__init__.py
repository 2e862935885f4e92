"""A browser-like user agent for scripts and tests: a cookie jar, redirects followed one hop
at a time, and HTML login and consent forms filled in the way a person fills them.

The probes, the reference client's demo and labs, the pytest plugin and valetkey's own tests
all drive authorization servers through it. It knows HTML forms and redirects, nothing about
any one provider: `agent.py` is the agent, `forms.py` the form model it reads pages with.
"""
