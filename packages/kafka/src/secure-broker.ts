// The credentials of the development broker started with `kafka.sh start --secure`
// (deploy/kafka/README.md): its CA and the SCRAM users' passwords, read from its runtime dir.
import * as fs from "node:fs";
import * as path from "node:path";

/** A user of a broker started with `kafka.sh start --secure`, as a service's environment. */
export interface SecureBrokerAccess {
  /** The CA that signed the broker's certificate. */
  caFile: string;
  /** SCRAM (and PLAIN) password of each user: admin and one per service. */
  passwords: Record<string, string>;
  /** KAFKA_SSL / KAFKA_SSL_CA_FILE / KAFKA_SASL_* for `user` (scram-sha-512 unless told). */
  env(user: string, mechanism?: "scram-sha-256" | "scram-sha-512" | "plain"): Record<string, string>;
}

/** The CA and the users' passwords of a secure broker's runtime dir. */
export function secureBrokerAccess(runtimeDir: string): SecureBrokerAccess {
  const dir = path.join(runtimeDir, "secure");
  const passwords: Record<string, string> = {};
  for (const line of fs.readFileSync(path.join(dir, "users.properties"), "utf8").split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) passwords[line.slice(0, at)] = line.slice(at + 1);
  }
  const caFile = path.join(dir, "ca.pem");
  return {
    caFile,
    passwords,
    env(user, mechanism = "scram-sha-512") {
      const password = passwords[user];
      if (password === undefined) throw new Error(`no user ${user} on the secure broker`);
      return {
        KAFKA_SSL: "true",
        KAFKA_SSL_CA_FILE: caFile,
        KAFKA_SASL_MECHANISM: mechanism,
        KAFKA_SASL_USERNAME: user,
        KAFKA_SASL_PASSWORD: password,
      };
    },
  };
}
