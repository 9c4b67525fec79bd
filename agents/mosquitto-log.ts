/**
 * Mosquitto's own account of its clients. Formats verified against
 * mosquitto 2.0.11 with `log_dest topic`, `log_dest file` and `log_type all`:
 *
 *   $SYS/broker/log/M/subscribe    "1795844384: cons1 1 plant/+/temp"          (client, QoS, filter)
 *   $SYS/broker/log/M/unsubscribe  "1795844393: cons2 a/#"                     (client, filter)
 *   $SYS/broker/log/N              "1795844384: New client connected from 127.0.0.1:39892 as cons1 (p2, c1, k60)."
 *                                  "1795844385: Client prod1 disconnected."
 *                                  "1795844386: New bridge connected from 127.0.0.1:40112 as plant-eu.hub (p2, c1, k60)."
 *   log file only (debug):         "1795844385: Received PUBLISH from prod1 (d0, q1, r0, m1, 'plant/a1/temp', ... (7 bytes))"
 *
 * Publishers appear only in the file, so {@link LogFollower} tails it,
 * surviving rotation (rename + new file) and truncation (copytruncate).
 */
import { open, stat, type FileHandle } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";

/** Something the broker told about a client. */
export type BrokerEvent =
  | { type: "subscribe"; clientId: string; qos: number; filter: string }
  | { type: "unsubscribe"; clientId: string; filter: string }
  | {
      type: "connect";
      clientId: string;
      clean: boolean;
      protocolLevel: number;
      username: string | null;
      /** the client is another broker's bridge (Mosquitto's bridge bit in CONNECT) */
      bridge?: boolean;
      /** the client's address (host:port), when the broker tells */
      address?: string;
    }
  | { type: "disconnect"; clientId: string }
  | { type: "publish"; clientId: string; topic: string; qos: number; retain: boolean; bytes: number };

// Default `log_timestamp` is epoch seconds; `log_timestamp_format` date-times ("%Y-%m-%dT%H:%M:%S", with a space too) are accepted.
const TIMESTAMP = /^(?:\d+|\d{4}-\d\d-\d\d(?:[T _]\d\d:\d\d(?::\d\d)?(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?): /;

/** Removes Mosquitto's timestamp prefix from a log line, if any. */
export function stripTimestamp(line: string): string {
  const m = TIMESTAMP.exec(line);
  return m ? line.slice(m[0].length) : line;
}

const UNSUBSCRIBE = /^(\S+) (.+)$/;
const CONNECTED = /^New (client|bridge) connected from (\S+) as (.+) \(p(\d+), c([01]), k\d+(?:, u'(.*)')?\)\.?$/;
const DISCONNECTED = [
  /^Client (.+) disconnected(?: due to [^.]*)?\.$/,
  /^Client (.+) closed its connection\.$/,
  /^Client (.+) has exceeded timeout, disconnecting\.$/,
  /^Socket error on client (.+), disconnecting\.$/,
];
const PUBLISH = /Received PUBLISH from (.+) \(d[01], q([0-2]), r([01]), m\d+, '(.*)', \.\.\. \((\d+) bytes\)\)\s*$/;

/**
 * Parses a `$SYS/broker/log/...` message. Returns the event, `null` for lines
 * that carry nothing about clients, or `"malformed"` for a line of a known
 * kind that does not parse.
 */
export function parseSysLog(topic: string, payload: string): BrokerEvent | null | "malformed" {
  const line = stripTimestamp(payload.trimEnd());
  if (topic === "$SYS/broker/log/M/subscribe") {
    // MQTT 5 subscription options are in the same byte: the low two bits are the QoS.
    const m = /^(.+?) (\d+) (.+)$/.exec(line);
    if (!m) return "malformed";
    return { type: "subscribe", clientId: m[1]!, qos: Number(m[2]) & 3, filter: m[3]! };
  }
  if (topic === "$SYS/broker/log/M/unsubscribe") {
    const m = UNSUBSCRIBE.exec(line);
    return m ? { type: "unsubscribe", clientId: m[1]!, filter: m[2]! } : "malformed";
  }
  if (topic === "$SYS/broker/log/N") return parseConnectionLine(line);
  return null;
}

/** Parses a connection notice (connect or disconnect); null for other notices. */
export function parseConnectionLine(line: string): BrokerEvent | null {
  const c = CONNECTED.exec(line);
  if (c) {
    const event: BrokerEvent = { type: "connect", clientId: c[3]!, protocolLevel: Number(c[4]), clean: c[5] === "1", username: c[6] ?? null, address: c[2]! };
    if (c[1] === "bridge") event.bridge = true;
    return event;
  }
  for (const re of DISCONNECTED) {
    const d = re.exec(line);
    if (d) return { type: "disconnect", clientId: d[1]! };
  }
  return null;
}

/** Parses a broker log-file line; returns a publish event for `Received PUBLISH` lines, else null. */
export function parseLogFileLine(line: string): BrokerEvent | null {
  if (!line.includes("Received PUBLISH from ")) return null;
  const m = PUBLISH.exec(line);
  if (!m) return null;
  return { type: "publish", clientId: m[1]!, qos: Number(m[2]), retain: m[3] === "1", topic: m[4]!, bytes: Number(m[5]) };
}

/** Parses a connection notice of the broker log file (a bridge or client connecting or leaving); null for other lines. */
export function parseLogFileConnection(line: string): BrokerEvent | null {
  if (!line.includes("connected") && !line.includes("disconnecting") && !line.includes("closed its connection")) return null;
  return parseConnectionLine(stripTimestamp(line.trimEnd()));
}

/** Options of a {@link LogFollower}. */
export interface LogFollowerOptions {
  /** poll interval in ms (default 250) */
  pollMs?: number;
  /** read the file from its start instead of its end (default false: only new lines) */
  fromStart?: boolean;
  /** longest line kept; longer ones are skipped and counted (default 64 KiB) */
  maxLineBytes?: number;
  /** most bytes read per poll before yielding to the event loop (default 8 MiB) */
  maxBytesPerPoll?: number;
  /** called for read errors other than a missing file */
  onError?: (err: unknown) => void;
}

/** Follows a growing log file line by line, like `tail -F`. */
export class LogFollower {
  private fh: FileHandle | null = null;
  private ino = -1;
  private pos = 0;
  private partial = "";
  private decoder = new StringDecoder("utf8");
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private stopped = false;
  private opened = false;
  private readonly buf: Buffer;
  /** lines delivered */
  linesRead = 0;
  /** lines skipped for being too long */
  linesSkipped = 0;
  /** times the file was found rotated or truncated */
  reopens = 0;

  /** Creates a follower; call start(). */
  constructor(
    readonly file: string,
    private readonly onLine: (line: string) => void,
    private readonly options: LogFollowerOptions = {},
  ) {
    this.buf = Buffer.allocUnsafe(256 * 1024);
  }

  /** Starts polling. */
  start(): void {
    this.stopped = false;
    const tick = async () => {
      await this.poll();
      if (!this.stopped) this.timer = setTimeout(tick, this.options.pollMs ?? 250);
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops polling and closes the file. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
    await this.fh?.close().catch(() => {});
    this.fh = null;
  }

  /** Reads whatever is new; safe to call concurrently with the timer. */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => {
      this.polling = null;
    });
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    try {
      // Skip history only for a file that existed when following began; a file that appears later is read whole.
      const atEnd = !this.opened && !this.options.fromStart;
      this.opened = true;
      if (!this.fh && !(await this.openFile(atEnd))) return;
      await this.readAvailable();
      // At EOF: has the path moved on to a new file, or was this one truncated?
      const onDisk = await stat(this.file).catch(() => null);
      if (onDisk && onDisk.ino !== this.ino) {
        await this.readAvailable();
        await this.fh!.close();
        this.fh = null;
        this.reopens++;
        if (await this.openFile(false)) await this.readAvailable();
      } else if (onDisk && onDisk.size < this.pos) {
        this.reopens++;
        this.pos = 0;
        this.partial = "";
        this.decoder = new StringDecoder("utf8");
        await this.readAvailable();
      }
    } catch (err) {
      this.options.onError?.(err);
    }
  }

  private async openFile(atEnd: boolean): Promise<boolean> {
    try {
      this.fh = await open(this.file, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      return false;
    }
    const s = await this.fh.stat();
    this.ino = s.ino;
    this.pos = atEnd ? s.size : 0;
    this.partial = "";
    this.decoder = new StringDecoder("utf8");
    return true;
  }

  private async readAvailable(): Promise<void> {
    const max = this.options.maxBytesPerPoll ?? 8 * 1024 * 1024;
    const maxLine = this.options.maxLineBytes ?? 64 * 1024;
    let total = 0;
    while (this.fh && total < max) {
      const { bytesRead } = await this.fh.read(this.buf, 0, this.buf.length, this.pos);
      if (bytesRead === 0) return;
      this.pos += bytesRead;
      total += bytesRead;
      const text = this.partial + this.decoder.write(this.buf.subarray(0, bytesRead));
      let start = 0;
      for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
        const line = text.slice(start, nl);
        start = nl + 1;
        this.linesRead++;
        this.onLine(line.endsWith("\r") ? line.slice(0, -1) : line);
      }
      this.partial = text.slice(start);
      if (this.partial.length > maxLine) {
        // A runaway line: drop what we have, resynchronise at the next newline.
        this.linesSkipped++;
        this.partial = "";
      }
    }
  }
}
