/** Result limits shared by every store, so both answer the same query the same way. */
export const DEFAULT_EVENT_LIMIT = 1000;
export const DEFAULT_RAW_LIMIT = 100_000;
