/** Largest body a server action accepts (the publish form carries uploads up to 5 MB); next.config.ts and the proxy read it here. */
export const SERVER_ACTION_BODY_LIMIT = 6 * 1024 * 1024;
