# sink_server.py - a TCP server for the BPF lane path tests: accepts forever, reads every byte, closes when the
# client does. Usage: sink_server.py ADDRESS PORT
import socket
import sys
import threading


def drain(conn):
    with conn:
        while conn.recv(1 << 16):
            pass


def main():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((sys.argv[1], int(sys.argv[2])))
    server.listen(64)
    print("listening", flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=drain, args=(conn,), daemon=True).start()


main()
