// setupFilesAfterEnv of the integration project: whatever a test file spawned is stopped after
// it, even when an assertion failed before the test's own stop().
import { stopAllSpawned } from "./process";

afterAll(async () => {
  await stopAllSpawned();
});
