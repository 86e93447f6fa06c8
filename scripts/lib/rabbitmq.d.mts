/** Types of scripts/lib/rabbitmq.mjs (the throwaway RabbitMQ node shared by the tests and bench/queue.mjs). */
export declare const RABBITMQ_SERVER: string;
export declare const RABBITMQ_INSTALL: string;
export declare function rabbitInstalled(): boolean;

export interface LaunchedRabbit {
  readonly url: string;
  readonly port: number;
  /** The node's temp dir: mnesia, logs, config. */
  readonly dir: string;
  /** Stops and starts the same node on the same mnesia dir. */
  restart(): Promise<void>;
  /** Stops the node (its dir stays, for restart). */
  stop(): Promise<void>;
  /** Stops the node and deletes its dir. */
  remove(): Promise<void>;
}

export declare function launchRabbit(): Promise<LaunchedRabbit>;
