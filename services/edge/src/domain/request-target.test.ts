import { isForwardableTarget } from "./request-target";

describe("request targets the edge forwards", () => {
  it.each([
    "/",
    "/api/users/1",
    "/api/users?x=../y",
    "/files/report.v2.pdf",
    "/a/..b/c",
    "/a/b../c",
    "/a/%41",
  ])("forwards %s", (target) => {
    expect(isForwardableTarget(target)).toBe(true);
  });

  it.each([
    "/api/../admin",
    "/..",
    "/api/./users",
    "/api/%2e%2e/admin",
    "/api/%2E%2e/admin",
    "/api/.%2e/admin",
    "/api/..%2fadmin",
    "/api/..%5cadmin",
    "/api\\..\\admin",
    "http://other/api/users",
    "*",
    "other:443",
    "",
    undefined,
  ])("refuses %s", (target) => {
    expect(isForwardableTarget(target)).toBe(false);
  });
});
