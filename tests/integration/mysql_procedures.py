"""A conformance corpus for MySQL answers that stored programs and multi-statements produce: result
sets with SERVER_MORE_RESULTS_EXISTS, the OK that ends a CALL, errors after rows, status flags a
server sets mid-answer (SERVER_STATUS_CURSOR_EXISTS from a procedure's own cursor), OUT
parameters, handlers, SIGNAL and RESIGNAL, dynamic SQL. test_mysql_procedures.py runs every case
directly and through lms and compares what the clients print; fuzz/capture_seeds.py records the
same traffic into the MySQL framer's seeds.

SETUP runs once, as root, in the test database. TEXT_CASES are scripts for the mariadb client
(`delimiter //` makes one COM_QUERY of several statements); BINARY_CASES are statements for
tests/clients/mysql_stmt_client (COM_STMT_PREPARE / COM_STMT_EXECUTE) with their parameters."""

SETUP = r"""
CREATE TABLE t1 (a INT);
INSERT INTO t1 VALUES (1), (2);
CREATE TABLE log (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(40));
CREATE TABLE big (n INT PRIMARY KEY, pad VARCHAR(200));
INSERT INTO big SELECT seq, REPEAT('p', 150) FROM seq_1_to_3000;
DELIMITER //
CREATE PROCEDURE cursor_open_then_select()
BEGIN DECLARE c1 CURSOR FOR SELECT a FROM t1; OPEN c1; SELECT * FROM t1; END//
CREATE PROCEDURE rows_then_signal()
BEGIN SELECT * FROM t1; SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'raised after a result set'; END//
CREATE PROCEDURE fetch_past_the_end()
BEGIN DECLARE x INT; DECLARE c1 CURSOR FOR SELECT a FROM t1; OPEN c1; LOOP FETCH c1 INTO x; END LOOP; END//
CREATE PROCEDURE fetch_unopened()
BEGIN DECLARE x INT; DECLARE c1 CURSOR FOR SELECT a FROM t1; FETCH c1 INTO x; END//
CREATE PROCEDURE loop_with_handler()
BEGIN
  DECLARE done INT DEFAULT 0; DECLARE x INT; DECLARE total INT DEFAULT 0;
  DECLARE c1 CURSOR FOR SELECT a FROM t1;
  DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = 1;
  OPEN c1;
  read_loop: LOOP FETCH c1 INTO x; IF done THEN LEAVE read_loop; END IF; SET total = total + x; SELECT x; END LOOP;
  CLOSE c1;
  SELECT total;
END//
CREATE PROCEDURE out_params(IN k INT, OUT doubled INT, INOUT counter INT)
BEGIN SET doubled = k * 2; SET counter = counter + 1; SELECT k AS k_in; END//
CREATE PROCEDURE only_out(OUT n INT, OUT s VARCHAR(20)) BEGIN SET n = 42; SET s = 'forty-two'; END//
CREATE PROCEDURE dynamic_sql(IN tbl VARCHAR(20))
BEGIN
  SET @q = CONCAT('SELECT COUNT(*) AS n FROM ', tbl);
  PREPARE s FROM @q; EXECUTE s; DEALLOCATE PREPARE s;
END//
CREATE PROCEDURE dynamic_sql_error() BEGIN PREPARE s FROM 'SELEC nonsense'; EXECUTE s; END//
CREATE PROCEDURE resignal_in_handler()
BEGIN
  DECLARE EXIT HANDLER FOR SQLEXCEPTION RESIGNAL SET MESSAGE_TEXT = 'resignalled';
  SELECT 'before the error' AS note;
  SELECT * FROM missing_table;
END//
CREATE PROCEDURE caught_in_handler()
BEGIN
  DECLARE EXIT HANDLER FOR SQLEXCEPTION SELECT 'caught' AS outcome;
  SELECT 'before the error' AS note;
  INSERT INTO missing_table VALUES (1);
END//
CREATE PROCEDURE three_results()
BEGIN SELECT 1 AS first; SELECT a FROM t1 WHERE a > 100; SELECT 'x' AS third, 2.5 AS d; END//
CREATE PROCEDURE writes_only() BEGIN INSERT INTO log (note) VALUES ('a'), ('b'); UPDATE log SET note = 'c'; END//
CREATE PROCEDURE recurse(IN n INT) BEGIN IF n > 0 THEN CALL recurse(n - 1); END IF; END//
CREATE PROCEDURE many_rows() BEGIN SELECT n, pad FROM big ORDER BY n; SELECT COUNT(*) FROM big; END//
CREATE PROCEDURE warns() BEGIN DECLARE x TINYINT; SET x = 1000; SELECT x; END//
CREATE PROCEDURE select_into() BEGIN DECLARE x INT; SELECT MAX(a) INTO x FROM t1; END//
CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2//
CREATE FUNCTION fails(x INT) RETURNS INT DETERMINISTIC
BEGIN SIGNAL SQLSTATE '22003' SET MESSAGE_TEXT = 'out of range in a function'; RETURN x; END//
DELIMITER ;
"""

# (name, script). Each script ends by showing that the session is still open.
_ALIVE = "SELECT 'session still open' AS alive;\n"
TEXT_CASES = [
    ("a procedure's own open cursor flags its result set", "CALL cursor_open_then_select();\n"),
    ("an error after a result set", "CALL rows_then_signal();\n"),
    ("a cursor fetched past its end: 1329", "CALL fetch_past_the_end();\n"),
    ("a fetch from a cursor never opened: 1326", "CALL fetch_unopened();\n"),
    ("a cursor loop with a NOT FOUND handler", "CALL loop_with_handler();\n"),
    ("OUT and INOUT parameters", "SET @c = 10;\nCALL out_params(21, @d, @c);\nSELECT @d, @c;\n"),
    ("dynamic SQL inside a procedure", "CALL dynamic_sql('t1');\nCALL dynamic_sql('missing_table');\n"),
    ("a syntax error in dynamic SQL", "CALL dynamic_sql_error();\n"),
    ("RESIGNAL from a handler", "CALL resignal_in_handler();\n"),
    ("an error caught by a handler", "CALL caught_in_handler();\n"),
    ("three result sets, one empty", "CALL three_results();\n"),
    ("a procedure that only writes",
     "DELETE FROM log;\nCALL writes_only();\nSELECT ROW_COUNT();\nSELECT COUNT(*) FROM log;\n"),
    ("a CALL in a transaction, rolled back",
     "DELETE FROM log;\nSTART TRANSACTION;\nCALL writes_only();\nCALL three_results();\nROLLBACK;\nSELECT COUNT(*) FROM log;\n"),
    ("recursion beyond max_sp_recursion_depth: 1456", "CALL recurse(3);\nSET max_sp_recursion_depth = 5;\n"
     "CALL recurse(3);\n"),
    ("a procedure's many rows", "CALL many_rows();\n"),
    ("warnings from a procedure", "CALL warns();\nSHOW WARNINGS;\n"),
    ("SELECT INTO answers nothing", "CALL select_into();\n"),
    ("stored functions, one raising", "SELECT twice(21);\nSELECT fails(1);\nSELECT twice(a) FROM t1;\n"),
    ("a missing procedure", "CALL no_such_procedure();\n"),
    ("multi-statements mixing results and CALLs",
     "DELIMITER //\nSELECT 1 AS one; CALL cursor_open_then_select(); SELECT 2 AS two; CALL three_results()//\n"
     "DELIMITER ;\n"),
    ("multi-statements stopped by an error after rows",
     "DELIMITER //\nSELECT 1 AS one; CALL rows_then_signal(); SELECT 'never' AS reached//\nDELIMITER ;\n"),
    ("multi-statements with writes, a transaction and an error",
     "DELIMITER //\nSTART TRANSACTION; INSERT INTO log (note) VALUES ('m'); CALL fetch_past_the_end(); "
     "COMMIT//\nDELIMITER ;\nROLLBACK;\n"),
]
TEXT_CASES = [(name, script + _ALIVE) for name, script in TEXT_CASES]

# (name, statement, parameters, through a read-only cursor). Every case is executed twice on one
# connection: the second run shows the session survived the first.
BINARY_CASES = [
    ("CALL with its own open cursor", "CALL cursor_open_then_select()", [], False),
    ("CALL raising after rows", "CALL rows_then_signal()", [], False),
    ("CALL with three results", "CALL three_results()", [], False),
    ("CALL with OUT parameters", "CALL out_params(?, ?, ?)", ["21", "0", "10"], False),
    ("CALL with only OUT parameters", "CALL only_out(?, ?)", ["0", "x"], False),
    ("CALL fetching past a cursor's end", "CALL fetch_past_the_end()", [], False),
    ("CALL of dynamic SQL", "CALL dynamic_sql(?)", ["t1"], False),
    ("CALL that only writes", "CALL writes_only()", [], False),
    ("a SELECT through a cursor, row by row", "SELECT n, pad FROM big WHERE n <= ?", ["5"], True),
    ("a CALL with a cursor asked for", "CALL three_results()", [], True),
    ("a function in a prepared SELECT", "SELECT twice(?), fails(?)", ["4", "5"], False),
]
