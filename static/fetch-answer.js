// fetchAnswer(url, init) → [status, body text]: fetch and read the body in one promise.
//
// The app's transport (app/browser.py) awaits this instead of fetch() and then
// response.text(): every JavaScript promise Python awaits costs a few turns of the browser's
// event loop to come back into Python, and on the way from a 401 to its refresh, or from the
// new token to the retries, each turn is time the user waits.
globalThis.fetchAnswer = async (url, init) => {
  const response = await fetch(url, init);
  return [response.status, await response.text()];
};
