"""A client of MySQL's C library (through Debian's python3-mysqldb, which exposes
mysql_change_user): logs in as one user, sets a session variable, changes to a second user, tries
a write, tries a third change with a wrong password, and prints what it saw at each step as JSON.
Run by Debian's own python3: python3 mysql_change_user.py PORT USER PASSWORD OTHER OTHER_PASSWORD"""
import json
import sys

import MySQLdb

port, user, password, other, other_password = int(sys.argv[1]), *sys.argv[2:6]
seen = []
connection = MySQLdb.connect(host="127.0.0.1", port=port, user=user, passwd=password, db="appdb")
cursor = connection.cursor()
cursor.execute("SET @mark = 1")
cursor.execute("SELECT CURRENT_USER(), @mark")
seen.append(list(cursor.fetchone()))
for who, secret in ((other, other_password), (other, "not-the-password")):
    try:
        connection.change_user(who, secret, "appdb")
        seen.append("changed")
    except MySQLdb.Error as e:
        seen.append(e.args[0])
    cursor = connection.cursor()
    cursor.execute("SELECT CURRENT_USER(), @mark")
    seen.append(list(cursor.fetchone()))
    try:
        cursor.execute("INSERT INTO kinds (id) VALUES (8)")
        connection.rollback()
        seen.append("inserted")
    except MySQLdb.Error as e:
        seen.append(e.args[0])
print(json.dumps(seen))
