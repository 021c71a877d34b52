import { kafkaEnv, kafkaSecurity } from "./common";
import { ConfigError, parseEnv } from "./env";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const files: Record<string, string> = {
  "/ca.pem": PEM,
  "/client.pem": PEM,
  "/client.key": PEM,
  "/notes.txt": "hi",
};
const readFile = (path: string): string => {
  const text = files[path];
  if (text === undefined) throw Object.assign(new Error(`ENOENT ${path}`), { code: "ENOENT" });
  return text;
};
const security = (env: Record<string, string>) => kafkaSecurity(parseEnv(kafkaEnv, env), readFile);

function issuesOf(env: Record<string, string>): string[] {
  try {
    security(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.variable}: ${i.message}`);
    throw error;
  }
  return [];
}

describe("kafka connection security settings", () => {
  it("is plaintext without credentials when nothing is set", () => {
    expect(security({})).toEqual({});
  });

  it("reads the CA and client certificate files for TLS and takes SCRAM credentials", () => {
    expect(
      security({
        KAFKA_SSL: "true",
        KAFKA_SSL_CA_FILE: "/ca.pem",
        KAFKA_SSL_CERT_FILE: "/client.pem",
        KAFKA_SSL_KEY_FILE: "/client.key",
        KAFKA_SASL_MECHANISM: "scram-sha-512",
        KAFKA_SASL_USERNAME: "keys",
        KAFKA_SASL_PASSWORD: "pw",
      }),
    ).toEqual({
      ssl: { ca: PEM, cert: PEM, key: PEM },
      sasl: { mechanism: "scram-sha-512", username: "keys", password: "pw" },
    });
  });

  it("uses the system's trust store when TLS has no CA file", () => {
    expect(security({ KAFKA_SSL: "true" })).toEqual({ ssl: {} });
  });

  it("names every inconsistent or unreadable variable at once", () => {
    expect(
      issuesOf({
        KAFKA_SSL_CA_FILE: "/ca.pem",
        KAFKA_SASL_MECHANISM: "plain",
        KAFKA_SASL_USERNAME: "edge",
      }).sort(),
    ).toEqual([
      "KAFKA_SASL_MECHANISM: plain sends the password in clear text: set KAFKA_SSL=true",
      "KAFKA_SASL_PASSWORD: required with KAFKA_SASL_MECHANISM=plain",
      "KAFKA_SSL_CA_FILE: set only with KAFKA_SSL=true",
    ]);
    expect(
      issuesOf({
        KAFKA_SSL: "true",
        KAFKA_SSL_CA_FILE: "/missing.pem",
        KAFKA_SSL_CERT_FILE: "/notes.txt",
      }).sort(),
    ).toEqual([
      "KAFKA_SSL_CA_FILE: cannot read /missing.pem: ENOENT",
      "KAFKA_SSL_CERT_FILE: /notes.txt is not a PEM file",
      "KAFKA_SSL_KEY_FILE: a client certificate needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE",
    ]);
    expect(issuesOf({ KAFKA_SASL_USERNAME: "edge", KAFKA_SASL_PASSWORD: "pw" }).sort()).toEqual([
      "KAFKA_SASL_PASSWORD: set only with KAFKA_SASL_MECHANISM",
      "KAFKA_SASL_USERNAME: set only with KAFKA_SASL_MECHANISM",
    ]);
  });

  it("rejects an unknown SASL mechanism", () => {
    expect(() => parseEnv(kafkaEnv, { KAFKA_SASL_MECHANISM: "gssapi" })).toThrow(/KAFKA_SASL_MECHANISM/);
  });
});
