/**
 * Resources closed in the reverse order of opening: what was opened last (and may use what came
 * before it) is closed first. A failing close is reported and does not stop the others.
 */
export class Resources {
  private readonly stack: { name: string; close: () => void | Promise<void> }[] = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly onError: (name: string, error: unknown) => void = () => undefined) {}

  /** Registers `close` for the resource just opened; returns `resource` for chaining. */
  add<T>(name: string, resource: T, close: (resource: T) => void | Promise<void>): T {
    this.stack.push({ name, close: () => close(resource) });
    return resource;
  }

  /** The names of what is open, in the order of opening. */
  names(): string[] {
    return this.stack.map((r) => r.name);
  }

  /** Closes everything once, last opened first; later calls wait for the first. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const r of [...this.stack].reverse()) {
        try {
          await r.close();
        } catch (error) {
          this.onError(r.name, error);
        }
      }
    })();
    return this.closing;
  }
}
