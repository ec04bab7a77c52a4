import { Client, Pool } from 'pg';
import { EmbeddedPostgres } from './embedded-postgres';

/**
 * The wire front of the embedded database, through the real `pg` driver: clients must each see a session
 * of their own although PGlite has one.
 */
describe('PGlite wire server (via EmbeddedPostgres)', () => {
  let db: EmbeddedPostgres;

  beforeAll(async () => {
    db = await EmbeddedPostgres.start({ inMemory: true, maxConnections: 10 });
    const client = new Client({ connectionString: db.url });
    await client.connect();
    await client.query('CREATE TABLE t (id int PRIMARY KEY, note text)');
    await client.end();
  });

  afterAll(async () => {
    await db?.close();
  });

  it('rolls back the open transaction of a client that disconnects abruptly, and other clients carry on', async () => {
    const quitter = new Client({ connectionString: db.url });
    quitter.on('error', () => undefined);
    await quitter.connect();
    await quitter.query('BEGIN');
    await quitter.query('INSERT INTO t VALUES (1, $1)', ['never committed']);
    // Kill the socket without Terminate, as a crashed process would.
    (quitter as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();

    const other = new Client({ connectionString: db.url });
    await other.connect();
    try {
      const { rows } = await other.query('SELECT count(*)::int AS n FROM t');
      expect(rows[0].n).toBe(0);
      await other.query('BEGIN');
      await other.query('INSERT INTO t VALUES (2, $1)', ['committed']);
      await other.query('COMMIT');
      expect((await other.query('SELECT note FROM t')).rows).toEqual([{ note: 'committed' }]);
    } finally {
      await other.end();
    }
  });

  it("keeps each connection's Parse/Bind/Execute together under concurrent extended-protocol load", async () => {
    const pool = new Pool({ connectionString: db.url, max: 8 });
    try {
      const results = await Promise.all(
        Array.from({ length: 400 }, (_, i) =>
          i % 2 === 0
            ? pool.query('SELECT $1::int + $2::int AS n', [i, 1]).then((r) => r.rows[0].n === i + 1)
            : pool.query('SELECT length($1::text) AS n', ['x'.repeat(i)]).then((r) => r.rows[0].n === i),
        ),
      );
      expect(results.every(Boolean)).toBe(true);
    } finally {
      await pool.end();
    }
  });

  it("isolates transactions: a second client waits for the first one's transaction instead of joining it", async () => {
    const a = new Client({ connectionString: db.url });
    const b = new Client({ connectionString: db.url });
    await Promise.all([a.connect(), b.connect()]);
    try {
      await a.query('BEGIN');
      await a.query('INSERT INTO t VALUES (10, $1)', ['from a']);
      const bRead = b.query('SELECT count(*)::int AS n FROM t WHERE id = 10');
      await a.query('ROLLBACK');
      expect((await bRead).rows[0].n).toBe(0);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it('carries messages of megabytes that arrive in many socket reads, and replies of megabytes, byte for byte', async () => {
    // A database of its own: the pool's connections close asynchronously on the server side, and must not
    // count against the connection limit the next test fills.
    const own = await EmbeddedPostgres.start({ inMemory: true, maxConnections: 5 });
    const pool = new Pool({ connectionString: own.url, max: 3 });
    try {
      await pool.query('CREATE TABLE big (id int PRIMARY KEY, body text NOT NULL)');
      // Three clients at once, each sending a ~3 MB Bind (far more than one socket read) with distinct
      // content, so a message stitched from another client's bytes or from a wrong offset would show.
      const bodies = [0, 1, 2].map((n) => Array.from({ length: 30_000 }, (_, i) => `${n}:${i}:${'x'.repeat(i % 97)}`).join('|'));
      await Promise.all(bodies.map((body, n) => pool.query('INSERT INTO big VALUES ($1, $2)', [n, body])));
      const { rows } = await pool.query<{ id: number; body: string }>('SELECT id, body FROM big ORDER BY id');
      expect(rows.map((r) => r.id)).toEqual([0, 1, 2]);
      rows.forEach((r, n) => expect(r.body === bodies[n]).toBe(true));
      // A reply of many PGlite send buffers, with the next query on the same connection right behind it.
      const many = await pool.query<{ n: number; pad: string }>(`SELECT n, repeat('y', 200) AS pad FROM generate_series(1, 20000) n`);
      expect(many.rows).toHaveLength(20_000);
      expect(many.rows[19_999]).toEqual({ n: 20_000, pad: 'y'.repeat(200) });
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
      await own.close();
    }
  });

  it('refuses a client over maxConnections with a PostgreSQL error that says why', async () => {
    const clients = Array.from({ length: 10 }, () => new Client({ connectionString: db.url }));
    await Promise.all(clients.map((c) => c.connect()));
    const extra = new Client({ connectionString: db.url });
    try {
      await expect(extra.connect()).rejects.toThrow(/too many clients.*maxConnections/);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });
});
