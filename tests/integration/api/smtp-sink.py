#!/usr/bin/env python3
"""smtp-sink.py OUTDIR — a real SMTP server on 127.0.0.1 (Python's smtpd,
deprecated but still in 3.11's standard library) for the reminder e-mail
test. Prints "listening PORT" once bound, then writes every message it
accepts to OUTDIR/NNNN.json: the envelope, the decoded headers and body
(parsed by the standard email package, so a malformed message shows) and
the raw text. Runs until killed."""
import json
import os
import sys
import warnings

warnings.simplefilter('ignore', DeprecationWarning)
import asyncore  # noqa: E402
import smtpd  # noqa: E402
from email import policy  # noqa: E402
from email.parser import BytesParser  # noqa: E402


class Sink(smtpd.SMTPServer):
    def __init__(self, outdir):
        super().__init__(('127.0.0.1', 0), None, decode_data=False)
        self.outdir = outdir
        self.count = 0

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        msg = BytesParser(policy=policy.default).parsebytes(data)
        record = {
            'mail_from': mailfrom,
            'rcpt_to': rcpttos,
            'from': str(msg['From']),
            'to': str(msg['To']),
            'subject': str(msg['Subject']),
            'date': str(msg['Date']),
            'message_id': str(msg['Message-ID']),
            'content_type': msg.get_content_type(),
            'charset': msg.get_content_charset(),
            'defects': [type(d).__name__ for d in msg.defects],
            'body': msg.get_content(),
            'raw': data.decode('ascii', 'replace'),
        }
        self.count += 1
        path = os.path.join(self.outdir, '%04d.json' % self.count)
        with open(path + '.tmp', 'w', encoding='utf-8') as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(path + '.tmp', path)
        return None  # 250 OK


def main():
    sink = Sink(sys.argv[1])
    print('listening', sink.socket.getsockname()[1], flush=True)
    asyncore.loop(timeout=0.5)


if __name__ == '__main__':
    main()
