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
  const GSSENC_REQUEST_CODE = 80877104;
  const CANCEL_REQUEST_CODE = 80877102;
  // Sync ends an extended-protocol sequence (and any error state), then ROLLBACK ends an open transaction.
  const RESET_SESSION = Buffer.concat([
    Buffer.from([0x53, 0, 0, 0, 4]),
    (() => {
      const sql = Buffer.from('ROLLBACK\0');
      const header = Buffer.alloc(5);
      header[0] = 0x51;
      header.writeInt32BE(4 + sql.length, 1);
      return Buffer.concat([header, sql]);
    })(),
  ]);
  const BOUNDARIES = new Set([0x53 /* S */, 0x51 /* Q */, 0x48 /* H */, 0x70 /* p */]);

  interface Connection {
    socket: import('node:net').Socket;
    /** Bytes received and not yet parsed, in arrival order; joined only once a whole message is there. */
    incoming: Buffer[];
    incomingLength: number;
    /** Bytes needed before the next message is complete (0: unknown, parse what there is). */
    needed: number;
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
        // A session held by a connection that went away is reset before anyone else may use it.
        if (owner?.closed) await release();
        const index = owner ? queue.findIndex((u) => u.connection === owner) : queue.length > 0 ? 0 : -1;
        if (index < 0) break;
        const [unit] = queue.splice(index, 1);
        const { connection } = unit;
        if (connection.closed) continue;
        // PGlite hands the reply over in chunks of its 8 KB send buffer; corked, a 1000-row result goes
        // out in one writev instead of one system call per chunk.
        connection.socket.cork();
        try {
          await db.runExclusive(() =>
            db.execProtocolRawStream(unit.bytes, {
              onRawData: (chunk) => {
                if (!connection.closed && chunk.length > 0) connection.socket.write(Buffer.from(chunk));
              },
            }),
          );
          owner = db.isInTransaction() || unit.holdsSession ? connection : null;
        } catch (error) {
          // A failure of PGlite itself (SQL errors reach the client as ErrorResponse): the client would wait
          // forever for ReadyForQuery, so drop it; its session is reset on the next turn.
          console.error('[embedded-postgres] protocol processing failed; closing the client connection:', error);
          owner = connection;
          connection.closed = true;
          connection.socket.destroy();
        } finally {
          connection.socket.uncork();
        }
      }
    } finally {
      running = false;
    }
  }

  /** Resets the shared session after its owner left (Sync, then ROLLBACK), discarding the replies. */
  async function release(): Promise<void> {
    owner = null;
    try {
      await db.runExclusive(() => db.execProtocolRawStream(new Uint8Array(RESET_SESSION), { onRawData: () => undefined }));
    } catch (error) {
      console.error('[embedded-postgres] resetting the session of a closed connection failed:', error);
    }
  }

  function onData(connection: Connection, data: Buffer): void {
    // A large message (a 1000-row vector INSERT is megabytes) arrives in many socket reads: joining every
    // read to the bytes before it would copy it over and over, so reads are only gathered until it is whole.
    connection.incoming.push(data);
    connection.incomingLength += data.length;
    if (connection.incomingLength < connection.needed) return;
    let buffer = connection.incoming.length === 1 ? connection.incoming[0] : Buffer.concat(connection.incoming, connection.incomingLength);
    let needed = 0;
    for (;;) {
      if (!connection.started) {
        if (buffer.length < 8) {
          needed = 8;
          break;
        }
        const length = buffer.readInt32BE(0);
        if (length < 8 || length > 10_000) {
          connection.socket.destroy();
          return;
        }
        if (buffer.length < length) {
          needed = length;
          break;
        }
        const code = buffer.readInt32BE(4);
        const startup = buffer.subarray(0, length);
        buffer = buffer.subarray(length);
        if (code === SSL_REQUEST_CODE || code === GSSENC_REQUEST_CODE) {
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
        queue.push({ connection, bytes: new Uint8Array(startup), holdsSession: false });
        continue;
      }
      if (buffer.length < 5) {
        needed = 5;
        break;
      }
      const type = buffer[0];
      const length = 1 + buffer.readInt32BE(1);
      if (length < 5) {
        connection.socket.destroy();
        return;
      }
      if (buffer.length < length) {
        needed = length;
        break;
      }
      const message = buffer.subarray(0, length);
      buffer = buffer.subarray(length);
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
    connection.incoming = buffer.length > 0 ? [buffer] : [];
    connection.incomingLength = buffer.length;
    connection.needed = needed;
    void drain();
  }

  const sockets = new Set<import('node:net').Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (connections.size >= options.maxConnections) {
      // ErrorResponse 53300 (too_many_connections), so the client reports a reason instead of a reset.
      const fields = Buffer.from(
        `SFATAL\0C53300\0Msorry, too many clients already (the embedded database accepts ${options.maxConnections}; raise maxConnections or lower the pool size)\0\0`,
      );
      const header = Buffer.alloc(5);
      header[0] = 0x45;
      header.writeInt32BE(4 + fields.length, 1);
      socket.end(Buffer.concat([header, fields]), () => socket.destroy());
      return;
    }
    socket.setNoDelay(true);
    const connection: Connection = { socket, incoming: [], incomingLength: 0, needed: 0, pending: [], started: false, closed: false };
    connections.add(connection);
    socket.on('data', (data) => onData(connection, data));
    const closed = () => {
      if (connection.closed) return;
      connection.closed = true;
      connections.delete(connection);
      for (let i = queue.length - 1; i >= 0; i--) if (queue[i].connection === connection) queue.splice(i, 1);
      if (owner === connection) void drain();
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
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
