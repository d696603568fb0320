// axios-auth-refresh set up as its README recommends: createAuthRefreshInterceptor on the
// axios instance with a refreshAuthLogic, and a request interceptor that reads the token
// from localStorage. Default options, or `?deduplicateRefresh=false` for that option.

import axios from "/bench/vendor/axios.js";
import createAuthRefreshInterceptor from "/bench/vendor/axios-auth-refresh.js";
import {
  ACCESS_KEY,
  REFRESH,
  REFRESH_KEY,
  RESOURCE,
  logOut,
  startPage,
  storeTokens,
  useAppTransport,
} from "../shared/page.js";

useAppTransport(axios);

const options = {};
if (new URLSearchParams(location.search).get("deduplicateRefresh") === "false") {
  options.deduplicateRefresh = false;
}

// The README: with deduplicateRefresh off, mark the refresh call with skipAuthRefresh.
const refreshAuthLogic = (failedRequest) =>
  axios
    .post(REFRESH, { refreshToken: localStorage.getItem(REFRESH_KEY) }, { skipAuthRefresh: true })
    .then(({ data }) => {
      const token = storeTokens(data);
      failedRequest.response.config.headers.Authorization = `Bearer ${token}`;
    })
    .catch((error) => {
      logOut(); // the refresh was refused: the session is over, as in the seed
      throw error;
    });

createAuthRefreshInterceptor(axios, refreshAuthLogic, options);

axios.interceptors.request.use((request) => {
  request.headers.Authorization = `Bearer ${localStorage.getItem(ACCESS_KEY)}`;
  return request;
});

startPage(async () => (await axios.get(RESOURCE, { responseType: "text" })).data);
