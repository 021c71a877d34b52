import { makeKeyChange } from "@apimon/testkit";
import {
  canonicalJson,
  KEY_CHANGE_SIGNATURE_HEADER,
  keyChangeSigner,
  signKeyChange,
  verifyKeyChange,
} from "./key-change-signature";
import { topics } from "./topics";

const SECRET = "key-changes-signing-secret-0123456789";
const HASH = "a".repeat(64);
const change = makeKeyChange({ keyHash: HASH, rateLimits: { minute: 100, hour: null, day: null } });

describe("key change signatures", () => {
  it("verifies the bytes a producer sent, whatever their key order", () => {
    const header = signKeyChange(SECRET, HASH, change);
    expect(header).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verifyKeyChange(SECRET, HASH, JSON.stringify(change), header)).toBe("valid");
    const { rateLimits, keyHash, ...rest } = change;
    const reordered = JSON.stringify({
      rateLimits: { day: null, hour: null, minute: 100 },
      ...rest,
      keyHash,
    });
    expect(rateLimits.minute).toBe(100);
    expect(verifyKeyChange(SECRET, HASH, reordered, header)).toBe("valid");
  });

  it("covers fields a reader's schema does not know yet", () => {
    const newer = { ...change, note: "from a newer keys service" };
    const header = signKeyChange(SECRET, HASH, newer);
    expect(verifyKeyChange(SECRET, HASH, JSON.stringify(newer), header)).toBe("valid");
    expect(verifyKeyChange(SECRET, HASH, JSON.stringify(change), header)).toBe("invalid");
  });

  it("rejects a missing, altered, misplaced or foreign signature", () => {
    const header = signKeyChange(SECRET, HASH, change);
    expect(verifyKeyChange(SECRET, HASH, JSON.stringify(change), undefined)).toBe("missing");
    expect(verifyKeyChange(SECRET, HASH, JSON.stringify(change), "")).toBe("missing");
    const raised = { ...change, rateLimits: { minute: 1_000_000, hour: null, day: null } };
    expect(verifyKeyChange(SECRET, HASH, JSON.stringify(raised), header)).toBe("invalid");
    expect(verifyKeyChange(SECRET, "b".repeat(64), JSON.stringify(change), header)).toBe("invalid");
    expect(verifyKeyChange("another-secret-0123456789abcdef", HASH, JSON.stringify(change), header)).toBe(
      "invalid",
    );
    expect(verifyKeyChange(SECRET, HASH, JSON.stringify(change), "v1=zz")).toBe("invalid");
    expect(verifyKeyChange(SECRET, HASH, JSON.stringify(change), header.replace("v1=", "v2="))).toBe(
      "invalid",
    );
  });

  it("signs tombstones per key", () => {
    const header = signKeyChange(SECRET, HASH, null);
    expect(verifyKeyChange(SECRET, HASH, null, header)).toBe("valid");
    expect(verifyKeyChange(SECRET, "b".repeat(64), null, header)).toBe("invalid");
    expect(verifyKeyChange(SECRET, HASH, JSON.stringify(change), header)).toBe("invalid");
  });

  it("signs only keys.changes.v1 messages in the relay", () => {
    const sign = keyChangeSigner(SECRET);
    expect(sign({ topic: topics.keyChanges, key: HASH, value: change })).toEqual({
      [KEY_CHANGE_SIGNATURE_HEADER]: signKeyChange(SECRET, HASH, change),
    });
    expect(sign({ topic: topics.notifications, key: "1", value: {} })).toBeUndefined();
  });

  it("writes canonical JSON with sorted keys and without undefined members", () => {
    expect(canonicalJson({ b: 1, a: [{ d: undefined, c: "x" }], e: null })).toBe(
      '{"a":[{"c":"x"}],"b":1,"e":null}',
    );
  });
});
