// A node-postgres application whose query (parameters bound, so the unnamed statement parsed
// afresh for every run) reads a table whose columns change under it, through lms with
// pool-cache-unnamed. Prints what it saw as one JSON line: the errors "cached plan must not change
// result type" it got before the query ran again, the columns and row it then read, and the
// statements lms kept prepared on the connection that answered.
//
// Usage: node changed_columns.js PORT USER PASSWORD DATABASE
'use strict';
const {Client} = require('pg');

const [port, user, password, database] = process.argv.slice(2);
const sql = 'SELECT * FROM changed_columns WHERE a >= $1';

async function main() {
  const c = new Client({host: '127.0.0.1', port: Number(port), user, password, database});
  await c.connect();
  try {
    await c.query(
        'DROP TABLE IF EXISTS changed_columns; CREATE TABLE changed_columns (a int); ' +
        'INSERT INTO changed_columns VALUES (1)');
    for (let run = 0; run < 6; run++) await c.query(sql, [0]);
    await c.query('ALTER TABLE changed_columns ADD COLUMN b int DEFAULT 7');
    let errors = 0;
    let result = null;
    for (let attempt = 0; attempt < 6 && result === null; attempt++) {
      try {
        result = await c.query(sql, [0]);
      } catch (e) {
        if (!/cached plan must not change result type/.test(e.message)) throw e;
        errors++;
      }
    }
    const kept = await c.query('SELECT name, statement FROM pg_prepared_statements ORDER BY name');
    console.log(JSON.stringify({
      errors,
      columns: result && result.fields.map((f) => f.name),
      rows: result && result.rows,
      kept: kept.rows
    }));
  } finally {
    await c.end();
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
