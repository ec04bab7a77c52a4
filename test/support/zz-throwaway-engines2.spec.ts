import { Pool } from 'pg';
import { describeEachEngine, engines } from './test-database';

const seen: string[] = [];
afterAll(() => { console.log('engines seen', seen); expect(seen.sort()).toEqual(['pglite', 'postgres']); });

describeEachEngine('throwaway', ({ engine, getUrl }) => {
  let pool: Pool;
  beforeAll(() => { pool = new Pool({ connectionString: getUrl(), max: 4 }); });
  it('runs pgvector', async () => {
    const t = Date.now();
    seen.push(engine);
    expect(engines()).toEqual(['pglite', 'postgres']);
    await pool.query('CREATE EXTENSION vector');
    await pool.query('CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))');
    await pool.query('INSERT INTO items VALUES (1,$1),(2,$2),(3,$3)', ['[1,0,0]', '[0,1,0]', '[0.9,0.1,0]']);
    const { rows } = await pool.query('SELECT id FROM items ORDER BY embedding <-> $1 LIMIT 2', ['[1,0,0]']);
    expect(rows.map((r) => r.id)).toEqual([1, 3]);
    const { rows: db } = await pool.query('select current_database() d, version() v');
    console.log(engine, getUrl(), db[0].d, String(db[0].v).slice(0, 40), Date.now() - t, 'ms');
  });
  afterAll(async () => { await pool.end(); const { Client } = require('pg'); if (engine==='postgres') { const c = new Client(process.env.TEST_PG_URL); await c.connect(); console.log('ORDER: suite afterAll ran first; db still exists:', (await c.query('select 1 from pg_database where datname=$1', [new URL(getUrl()).pathname.slice(1)])).rowCount); await c.end(); } });
});
