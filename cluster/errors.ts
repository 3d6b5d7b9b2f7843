/** Errors of split mode; each message says what to do. main.ts prints them and exits with code 2. */
export type ClusterErrorCode =
  | 'MQTT_REFUSED' // the broker refused the service credentials or the protocol
  | 'MQTT_UNREACHABLE' // no broker at MQTT_URL within the start-up wait
  | 'RULES_UNAVAILABLE' // no rules process owns the site, or none is connected
  | 'RULES_TIMEOUT' // a rules process did not answer in RPC_TIMEOUT
  | 'PARTITION_CONFLICT' // two rules processes claim one site
  | 'PARTITION_UNKNOWN_SITE' // RULES_SITES names a site the farm file lacks
  | 'BAD_PART'; // --only names no component

export class ClusterError extends Error {
  constructor(
    readonly code: ClusterErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ClusterError';
  }
}
