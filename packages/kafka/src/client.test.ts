import { connectionSecurity } from "./client";

describe("kafka client connection security", () => {
  it("connects in plaintext without credentials by default", () => {
    expect(connectionSecurity()).toEqual({});
    expect(connectionSecurity({})).toEqual({});
  });

  it("verifies the broker against the system's trust store when TLS has no CA", () => {
    expect(connectionSecurity({ ssl: {} })).toEqual({ ssl: true });
  });

  it("passes the CA, the client certificate and the SASL credentials to the client", () => {
    expect(
      connectionSecurity({
        ssl: { ca: "CA", cert: "CERT", key: "KEY" },
        sasl: { mechanism: "scram-sha-256", username: "edge", password: "pw" },
      }),
    ).toEqual({
      ssl: { ca: "CA", cert: "CERT", key: "KEY" },
      sasl: { mechanism: "scram-sha-256", username: "edge", password: "pw" },
    });
  });
});
