/** The line a user reads at start: the dashboard's address (https:// when HTTPS is on) and the MQTT ports that are open. */
export function readyLine(o: { httpPort: number; https: boolean; mqttPort?: number; mqttTlsPort?: number }): string {
  const mqtt = [
    o.mqttPort !== undefined ? `MQTT on port ${o.mqttPort}` : undefined,
    o.mqttTlsPort !== undefined ? `MQTT over TLS on port ${o.mqttTlsPort}` : undefined,
  ];
  return `ready: dashboard on ${o.https ? 'https' : 'http'}://localhost:${o.httpPort}, ${mqtt.filter(Boolean).join(', ')}`;
}
