"""The demo's way in and out through an OpenID Connect provider (`refresh = "oidc"`): the
button that sends the user there, /callback on the way back, and logging out there too."""

from app import routes
from app.interpreter import window
from refresh_gate import AuthError


class ProviderSignIn:
    """Signing in and out of `demo` (app/demo.py's Demo) with `sign_in`, an OidcSignIn."""

    def __init__(self, demo, sign_in) -> None:
        self._demo = demo
        self._sign_in = sign_in
        self._id_token: str | None = None  # the provider's, for its logout

    async def begin(self) -> None:
        """Send the user to the provider to sign in; it sends them back to /callback."""
        return_to = routes.return_path(str(window.location.search))
        try:
            url = await self._sign_in.begin(return_to)
        except AuthError as error:
            self._demo.view.say("login", f"Could not reach your provider: {error}")
            return
        window.location.assign(url)

    async def finish(self) -> None:
        """The provider sent the user back: check the answer, keep the pair, go on."""
        try:
            signed_in = await self._sign_in.finish(str(window.location.search))
        except AuthError as error:
            # A refused, replayed or tampered answer: a message, and no tokens.
            self._demo.go(routes.LOGIN, replace=True)
            self._demo.view.say("login", str(error))
            return
        self._id_token = signed_in.id_token
        self._demo.gate.accept(signed_in.tokens)
        self._demo.go(signed_in.return_to, replace=True)

    async def log_out(self, tokens) -> None:
        """After the tab's own logout: revoke the refresh token at the provider, then end
        the provider's session too (its end-session page sends the user back to /login)."""
        id_token, self._id_token = self._id_token, None
        try:
            url = await self._sign_in.log_out(tokens.refresh if tokens else None, id_token)
        except AuthError:
            return  # signed out here; the provider's session ends at its own time
        if url:
            window.location.assign(url)
