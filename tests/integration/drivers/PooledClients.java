// An application as JDBC runs one, for pool-mode transaction: many threads, each with its own
// connection through lms, using server-side prepared statements (prepareThreshold=1: the driver
// names them S_1, S_2, ... per connection, so every thread's S_1 is another statement), closing
// some of them (the driver sends Close), in transactions and in autocommit, with a setting of its
// own. Every answer is checked; the first wrong one fails the run with what it was.
//
// Usage: java -cp postgresql.jar PooledClients.java PORT USER PASSWORD DATABASE THREADS ROUNDS
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;

public class PooledClients {
  static String url;
  static Properties props = new Properties();

  static void check(boolean ok, String what) {
    if (!ok)
      throw new IllegalStateException(what);
  }

  static void client(int id, int rounds) throws Exception {
    Properties mine = new Properties();
    mine.putAll(props);
    mine.setProperty("ApplicationName", "jdbc-" + id);
    try (Connection c = DriverManager.getConnection(url, mine)) {
      try (Statement s = c.createStatement()) {
        s.execute("SET lms_test.client = '" + id + "'");
      }
      // Half the threads prepare in the other order: the same driver name is another text.
      String addSql = "SELECT ?::int + " + id;
      String whoSql = "SELECT current_setting('application_name'), current_setting('lms_test.client')";
      PreparedStatement add;
      PreparedStatement who;
      if (id % 2 == 0) {
        add = c.prepareStatement(addSql);
        who = c.prepareStatement(whoSql);
      } else {
        who = c.prepareStatement(whoSql);
        add = c.prepareStatement(addSql);
      }
      for (int round = 0; round < rounds; round++) {
        add.setInt(1, round);
        try (ResultSet r = add.executeQuery()) {
          check(r.next() && r.getInt(1) == round + id, "client " + id + " round " + round + ": wrong sum");
        }
        try (ResultSet r = who.executeQuery()) {
          check(r.next(), "client " + id + ": no settings row");
          check(r.getString(1).equals("jdbc-" + id),
              "client " + id + " saw application_name " + r.getString(1));
          check(r.getString(2).equals(String.valueOf(id)),
              "client " + id + " saw lms_test.client " + r.getString(2));
        }
        // A transaction of several statements: one backend from its first to its commit.
        c.setAutoCommit(false);
        int pid;
        try (
            PreparedStatement ins = c.prepareStatement("INSERT INTO jdbc_rows (client, round) VALUES (?, ?)");
            PreparedStatement me = c.prepareStatement("SELECT pg_backend_pid()")) {
          try (ResultSet r = me.executeQuery()) {
            r.next();
            pid = r.getInt(1);
          }
          ins.setInt(1, id);
          ins.setInt(2, round);
          check(ins.executeUpdate() == 1, "client " + id + ": insert");
          try (ResultSet r = me.executeQuery()) {
            r.next();
            check(r.getInt(1) == pid,
                "client " + id + ": transaction moved from backend " + pid + " to " + r.getInt(1));
          }
        } // both closed: the driver sends Close for their statements
        if (round % 3 == 2) {
          c.rollback();
        } else {
          c.commit();
        }
        c.setAutoCommit(true);
      }
      add.close();
      who.close();
      try (PreparedStatement count = c.prepareStatement("SELECT count(*) FROM jdbc_rows WHERE client = ?")) {
        count.setInt(1, id);
        try (ResultSet r = count.executeQuery()) {
          r.next();
          int expected = rounds - rounds / 3;
          check(r.getInt(1) == expected,
              "client " + id + ": " + r.getInt(1) + " rows, " + expected + " committed");
        }
      }
    }
  }

  public static void main(String[] args) throws Exception {
    url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/" + args[3];
    props.setProperty("user", args[1]);
    props.setProperty("password", args[2]);
    props.setProperty("prepareThreshold", "1");
    props.setProperty("sslmode", "disable");
    int threads = Integer.parseInt(args[4]);
    int rounds = Integer.parseInt(args[5]);
    try (Connection c = DriverManager.getConnection(url, props); Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS jdbc_rows");
      s.execute("CREATE TABLE jdbc_rows (client int, round int)");
    }
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> all = new ArrayList<>();
    for (int id = 0; id < threads; id++) {
      final int me = id;
      Thread t = new Thread(() -> {
        try {
          client(me, rounds);
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
      });
      t.start();
      all.add(t);
    }
    for (Thread t : all) t.join();
    if (failure.get() != null) {
      failure.get().printStackTrace();
      System.exit(1);
    }
    System.out.println("ok " + threads + " clients x " + rounds + " rounds");
  }
}
