"""What the adapter runs outside the program it debugs, in a helper process (cli.py): getting an
attach ticket run inside a live CPython (remote_exec.py from 3.14, gdb.py before), and reading a
3.14+ program's tasks without running anything in it (task_tree.py). Parseable by Python 3.8."""
