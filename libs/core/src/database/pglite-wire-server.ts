/**
 * A PostgreSQL wire-protocol front for one PGlite instance, shared by many client connections.
 *
 * Why not `PGLiteSocketServer` (from `@electric-sql/pglite-socket`): it queues every protocol *message*
 * separately, so outside an explicit transaction the Parse/Bind/Execute/Sync of two connections
 * interleave on PGlite's single session — measured here as "bind message supplies 1 parameters, but
 * prepared statement requires 2" and "unnamed prepared statement does not exist" as soon as two pooled
 * connections run extended-protocol queries at once. This server forwards a connection's messages as one
 * unit up to a boundary (Sync, simple Query, Flush, password), and while a connection has a transaction
 * open (or is between Flush and Sync) only that connection's units run, so every client sees a session
 * of its own.
 *
 * The function is self-contained on purpose: the embedded database runs it inside a worker thread from
 * its source text (`Function.prototype.toString`), where no module of this package can be required.
 * `COPY` is not supported (a client sending CopyData would hold the session).
 */
export function startPgliteWireServer(
  db: {
    runExclusive<T>(fn: () => Promise<T>): Promise<T>;
    execProtocolRawStream(message: Uint8Array, options: { onRawData: (chunk: Uint8Array) => void }): Promise<unknown>;
    isInTransaction(): boolean;
    exec(sql: string): Promise<unknown>;
  },
  net: typeof import('node:net'),
  options: { host: string; port: number; maxConnections: number },
): Promise<{ address: string; close(): Promise<void> }> {
  const STARTUP_CODE = 196608;
  const SSL_REQUEST_CODE = 80877103;
  const CANCEL_REQUEST_CODE = 80877102;
  const BOUNDARIES = new Set([0x53 /* S */, 0x51 /* Q */, 0x48 /* H */, 0x70 /* p */]);

  interface Connection {
    socket: import('node:net').Socket;
    buffer: Buffer;
    pending: Buffer[];
    started: boolean;
    closed: boolean;
  }
  interface Unit {
    connection: Connection;
    bytes: Uint8Array;
    holdsSession: boolean;
  }

  const connections = new Set<Connection>();
  const queue: Unit[] = [];
  let owner: Connection | null = null;
  let running = false;

  async function drain(): Promise<void> {
    if (running) return;
    running = true;
    try {
      for (;;) {
        const index = owner ? queue.findIndex((u) => u.connection === owner) : queue.length > 0 ? 0 : -1;
        if (index < 0) break;
        const [unit] = queue.splice(index, 1);
        const { connection } = unit;
        if (connection.closed) continue;
        await db.runExclusive(() =>
          db.execProtocolRawStream(unit.bytes, {
            onRawData: (chunk) => {
              if (!connection.closed && chunk.length > 0) connection.socket.write(Buffer.from(chunk));
            },
          }),
        );
        owner = db.isInTransaction() || unit.holdsSession ? connection : null;
        if (connection.closed && owner === connection) await release(connection);
      }
    } catch (error) {
      // A failure of PGlite itself (not an SQL error, which travels to the client as ErrorResponse).
      console.error('[embedded-postgres] protocol processing failed:', error);
    } finally {
      running = false;
    }
  }

  async function release(connection: Connection): Promise<void> {
    if (owner !== connection) return;
    owner = null;
    if (db.isInTransaction()) await db.runExclusive(() => db.exec('ROLLBACK'));
  }

  function onData(connection: Connection, data: Buffer): void {
    connection.buffer = connection.buffer.length === 0 ? data : Buffer.concat([connection.buffer, data]);
    for (;;) {
      const buffer = connection.buffer;
      if (!connection.started) {
        if (buffer.length < 8) return;
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return;
        const code = buffer.readInt32BE(4);
        connection.buffer = buffer.subarray(length);
        if (code === SSL_REQUEST_CODE) {
          connection.socket.write('N');
          continue;
        }
        if (code === CANCEL_REQUEST_CODE) {
          connection.socket.end();
          return;
        }
        if (code !== STARTUP_CODE) {
          connection.socket.destroy();
          return;
        }
        connection.started = true;
        queue.push({ connection, bytes: new Uint8Array(buffer.subarray(0, length)), holdsSession: false });
        continue;
      }
      if (buffer.length < 5) break;
      const type = buffer[0];
      const length = 1 + buffer.readInt32BE(1);
      if (buffer.length < length) break;
      const message = buffer.subarray(0, length);
      connection.buffer = buffer.subarray(length);
      if (type === 0x58 /* X: Terminate */) {
        connection.socket.end();
        return;
      }
      connection.pending.push(message);
      if (BOUNDARIES.has(type)) {
        queue.push({
          connection,
          bytes: new Uint8Array(Buffer.concat(connection.pending)),
          holdsSession: type === 0x48,
        });
        connection.pending = [];
      }
    }
    void drain();
  }

  const server = net.createServer((socket) => {
    if (connections.size >= options.maxConnections) {
      socket.end();
      return;
    }
    socket.setNoDelay(true);
    const connection: Connection = { socket, buffer: Buffer.alloc(0), pending: [], started: false, closed: false };
    connections.add(connection);
    socket.on('data', (data) => onData(connection, data));
    const closed = () => {
      if (connection.closed) return;
      connection.closed = true;
      connections.delete(connection);
      for (let i = queue.length - 1; i >= 0; i--) if (queue[i].connection === connection) queue.splice(i, 1);
      if (owner === connection && !running) void release(connection).then(drain);
    };
    socket.on('close', closed);
    socket.on('error', closed);
  });

  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      const address = server.address() as import('node:net').AddressInfo;
      resolvePromise({
        address: `${options.host}:${address.port}`,
        close: () =>
          new Promise<void>((done) => {
            for (const c of connections) c.socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
