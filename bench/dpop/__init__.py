"""`make bench`, part `dpop`: what DPoP (RFC 9449) costs the gate, and the gate with DPoP
beside auth0-spa-js (`useDpop: true`) and oidc-client-ts (`dpop`), all on one oidc-provider
started with `--dpop` (its nonces required on every DPoP request).

`pages` names the contestants and measures a proof in the gate's page; `part` runs the
demo, the two-tab race and the proof's cost, with the gate's DPoP on and off; `tables`
writes the figures into bench/results.md.
"""
