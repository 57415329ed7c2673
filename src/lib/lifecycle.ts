/**
 * One lifecycle for every component: the constructor does no I/O, `start(signal)` may be cancelled,
 * `stop()` is idempotent and drains before it closes.
 */
export interface Component {
  readonly name: string;
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

/** Starts components in order; stops the started ones in reverse order, once. */
export class ComponentGroup {
  private readonly started: Component[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly components: readonly Component[],
    private readonly onStopError: (component: string, error: unknown) => void = () => undefined,
  ) {}

  async start(signal: AbortSignal): Promise<void> {
    for (const component of this.components) {
      if (signal.aborted) throw new Error(`start cancelled before ${component.name}`);
      await component.start(signal);
      this.started.push(component);
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const component of [...this.started].reverse()) {
        try {
          await component.stop();
        } catch (error) {
          this.onStopError(component.name, error);
        }
      }
    })();
    return this.stopping;
  }
}

/** Error with a stable code; `exitCode` 2 marks bad usage or bad config. */
export class EdgeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'EdgeError';
  }
}
