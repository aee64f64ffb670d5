/**
 * The only IPC the window may use: three fixed, typed requests. There is no generic channel, so a
 * compromised page can ask for the API token (it already talks to that API) and nothing else.
 */
export const CHANNELS = {
  getToken: 'orchard:get-token',
  getVersion: 'orchard:get-version',
  setHfToken: 'orchard:set-hf-token',
} as const;
