import { attemptDeliveryId, uuidV5 } from "./delivery-ids";

describe("attempt delivery ids", () => {
  it("computes RFC 9562 uuid v5 (the DNS-namespace example)", () => {
    expect(uuidV5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com")).toBe(
      "2ed6657d-e927-568b-95e1-2665a8aea6a2",
    );
  });

  it("gives each attempt of a delivery its own stable id, unlike the delivery's own", () => {
    const deliveryId = "0190b2c4-8f1e-7a3b-9c2d-1e2f3a4b5c6d";
    const ids = [1, 2, 3].map((a) => attemptDeliveryId(deliveryId, a));
    expect(new Set([deliveryId, ...ids]).size).toBe(4);
    expect(ids).toEqual([1, 2, 3].map((a) => attemptDeliveryId(deliveryId, a)));
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
