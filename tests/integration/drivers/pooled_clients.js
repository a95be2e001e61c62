// An application as node-postgres runs one, for pool-mode transaction: many clients at once on one
// event loop, each with its own connection through lms. Named queries are parsed once per
// connection and then only bound (node-postgres remembers what it prepared), and every client
// gives the same name to another text; settings are the client's own (its application_name at
// login, a SET); transactions commit or roll back. Every answer is checked; the first wrong one
// fails the run with what it was.
//
// Usage: node pooled_clients.js PORT USER PASSWORD DATABASE CLIENTS ROUNDS
'use strict';
const {Client} = require('pg');

const [port, user, password, database, clients, rounds] = process.argv.slice(2);
const config = {
  host: '127.0.0.1',
  port: Number(port),
  user,
  password,
  database
};

function check(ok, what) {
  if (!ok) throw new Error(what);
}

async function one(id) {
  const c = new Client({...config, application_name: `node-${id}`});
  await c.connect();
  try {
    await c.query(`SET lms_test.client = '${id}'`);
    for (let round = 0; round < Number(rounds); round++) {
      const sum = await c.query({name: 'sum', text: `SELECT $1::int + ${id} AS v`, values: [round]});
      check(sum.rows[0].v === round + id, `client ${id} round ${round}: sum ${sum.rows[0].v}`);
      const who = await c.query({
        name: 'who',
        text:
            'SELECT current_setting(\'application_name\') AS app, current_setting(\'lms_test.client\') AS me',
      });
      check(who.rows[0].app === `node-${id}`, `client ${id} saw application_name ${who.rows[0].app}`);
      check(who.rows[0].me === String(id), `client ${id} saw lms_test.client ${who.rows[0].me}`);
      await c.query('BEGIN');
      const before = await c.query({name: 'pid', text: 'SELECT pg_backend_pid() AS pid'});
      await c.query('INSERT INTO node_rows (client, round) VALUES ($1, $2)', [id, round]);
      const after = await c.query({name: 'pid', text: 'SELECT pg_backend_pid() AS pid'});
      check(
          before.rows[0].pid === after.rows[0].pid,
          `client ${id}: transaction moved from backend ${before.rows[0].pid} to ${after.rows[0].pid}`);
      await c.query(round % 3 === 2 ? 'ROLLBACK' : 'COMMIT');
    }
    const n = await c.query('SELECT count(*)::int AS n FROM node_rows WHERE client = $1', [id]);
    const expected = Number(rounds) - Math.floor(Number(rounds) / 3);
    check(n.rows[0].n === expected, `client ${id}: ${n.rows[0].n} rows, ${expected} committed`);
  } finally {
    await c.end();
  }
}

async function main() {
  const setup = new Client(config);
  await setup.connect();
  await setup.query('DROP TABLE IF EXISTS node_rows');
  await setup.query('CREATE TABLE node_rows (client int, round int)');
  await setup.end();
  const ids = Array.from({length: Number(clients)}, (_, i) => i);
  await Promise.all(ids.map(one));
  console.log(`ok ${clients} clients x ${rounds} rounds`);
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
