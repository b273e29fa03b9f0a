import { MtlsctlError } from "../errors";

/** A request the service answers with an HTTP status other than 200 (the reason goes in the body). */
export class Refusal extends MtlsctlError {
  constructor(readonly status: number, reason: string) {
    super(reason);
  }
}
