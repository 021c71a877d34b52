import { assertInfrastructure } from "./infra";

/** Jest globalSetup of the integration project: refuse to start without real infrastructure. */
export default async function globalSetup(): Promise<void> {
  await assertInfrastructure();
}
