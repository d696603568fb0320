// The seed article's approach, written afresh: an axios response interceptor with one
// shared refresh promise, cleared in `finally`. Requests read the token from localStorage.

import axios from "/bench/vendor/axios.js";
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
const api = axios.create();
let refreshing; // the refresh in flight, shared by the 401s that arrive while it runs

api.interceptors.request.use((config) => {
  const token = localStorage.getItem(ACCESS_KEY);
  if (token) config.headers.Authorization = `Bearer ${token}`;
  return config;
});

api.interceptors.response.use(
  (response) => response,
  async (error) => {
    const request = error.config;
    if (error.response?.status !== 401 || !localStorage.getItem(ACCESS_KEY) || request.retried) {
      throw error;
    }
    request.retried = true;
    try {
      // The refresh goes out on plain axios: through `api`, a refused refresh would await
      // its own promise in this interceptor, forever.
      refreshing ??= axios
        .post(REFRESH, { refreshToken: localStorage.getItem(REFRESH_KEY) })
        .then(({ data }) => storeTokens(data));
      const token = await refreshing;
      request.headers.Authorization = `Bearer ${token}`;
      return await api(request);
    } catch (failure) {
      logOut();
      throw failure;
    } finally {
      refreshing = undefined;
    }
  },
);

startPage(async () => (await api.get(RESOURCE, { responseType: "text" })).data);
