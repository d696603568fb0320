"""The browser side of the demo: a pure core (gate, tokens, routes) and a thin browser edge."""
