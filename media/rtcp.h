/* rtcp.h — pure RTCP codec over caller buffers (RFC 3550 SR/RR/BYE,
 * RFC 4585 NACK/PLI, RFC 5104 FIR, REMB, transport-wide CC feedback).
 * No allocation, no logging; negative errno on error. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

enum {
  CS_RTCP_SR = 200,
  CS_RTCP_RR = 201,
  CS_RTCP_SDES = 202,
  CS_RTCP_BYE = 203,
  CS_RTCP_APP = 204,
  CS_RTCP_RTPFB = 205,   /* fmt 1 NACK, fmt 15 transport-cc */
  CS_RTCP_PSFB = 206,    /* fmt 1 PLI, fmt 4 FIR, fmt 15 AFB (REMB) */
  CS_RTCP_XR = 207,
};

/* FMT values of the feedback messages handled here. */
enum {
  CS_RTCP_FMT_NACK = 1,   /* RTPFB, RFC 4585 §6.2.1 */
  CS_RTCP_FMT_TWCC = 15,  /* RTPFB, transport-wide CC */
  CS_RTCP_FMT_PLI = 1,    /* PSFB, RFC 4585 §6.3.1 */
  CS_RTCP_FMT_FIR = 4,    /* PSFB, RFC 5104 §4.3.1 */
  CS_RTCP_FMT_AFB = 15,   /* PSFB, application layer FB (REMB) */
};

#define CS_RTCP_MAX_REPORTS 31

typedef struct {
  guint8 pt;
  guint8 count;          /* RC / SC / FMT field */
  const guint8 *data;    /* whole packet including its 4-byte header */
  gsize len;
} CsRtcpPacket;

/* Iterates a compound packet: returns 1 and fills @pkt, 0 at the end,
 * -EINVAL on a malformed header or length. *@offset starts at 0. */
int cs_rtcp_next (const guint8 *buf, gsize len, gsize *offset, CsRtcpPacket *pkt);

typedef struct {
  guint32 ssrc;
  guint8 fraction_lost;
  gint32 cumulative_lost;   /* 24-bit signed */
  guint32 ext_highest_seq;
  guint32 jitter;
  guint32 lsr;
  guint32 dlsr;
} CsRtcpReportBlock;

typedef struct {
  guint32 ssrc;             /* sender */
  guint32 ntp_sec;
  guint32 ntp_frac;
  guint32 rtp_ts;
  guint32 packet_count;
  guint32 octet_count;
  guint n_reports;
  CsRtcpReportBlock reports[CS_RTCP_MAX_REPORTS];
} CsRtcpSr;

typedef struct {
  guint32 ssrc;             /* sender */
  guint n_reports;
  CsRtcpReportBlock reports[CS_RTCP_MAX_REPORTS];
} CsRtcpRr;

typedef struct {
  guint8 pt;                /* RTPFB or PSFB */
  guint8 fmt;
  guint32 sender_ssrc;
  guint32 media_ssrc;
  const guint8 *fci;
  gsize fci_len;
} CsRtcpFb;

int cs_rtcp_parse_sr (const CsRtcpPacket *pkt, CsRtcpSr *out);
int cs_rtcp_parse_rr (const CsRtcpPacket *pkt, CsRtcpRr *out);
int cs_rtcp_parse_fb (const CsRtcpPacket *pkt, CsRtcpFb *out);
/* Expands NACK FCIs (PID + BLP) into @seqs; returns the count (<= @max). */
int cs_rtcp_nack_seqs (const CsRtcpFb *fb, guint16 *seqs, guint max);
/* REMB (PSFB fmt 15, "REMB" id): bitrate in bit/s and the SSRCs it covers. */
int cs_rtcp_parse_remb (const CsRtcpFb *fb, guint64 *bitrate, guint32 *ssrcs, guint max_ssrcs, guint *n_ssrcs);
/* FIR: the SSRC of the first FCI entry (the media source asked for a key frame). */
int cs_rtcp_parse_fir (const CsRtcpFb *fb, guint32 *ssrc, guint8 *seq_nr);

/* Writers: return the number of bytes written, or -ENOSPC / -EINVAL. */
int cs_rtcp_write_sr (guint8 *buf, gsize cap, const CsRtcpSr *sr);
int cs_rtcp_write_rr (guint8 *buf, gsize cap, const CsRtcpRr *rr);
int cs_rtcp_write_pli (guint8 *buf, gsize cap, guint32 sender_ssrc, guint32 media_ssrc);
int cs_rtcp_write_fir (guint8 *buf, gsize cap, guint32 sender_ssrc, guint32 media_ssrc, guint8 seq_nr);
/* Packs @seqs (any order, duplicates allowed) into PID+BLP FCIs. */
int cs_rtcp_write_nack (guint8 *buf, gsize cap, guint32 sender_ssrc, guint32 media_ssrc,
                        const guint16 *seqs, guint n);
int cs_rtcp_write_remb (guint8 *buf, gsize cap, guint32 sender_ssrc, guint64 bitrate,
                        const guint32 *ssrcs, guint n);

/* Transport-wide CC feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01).
 * @arrival_us[i] is the arrival time (µs, any monotonic origin) of transport
 * sequence number @base_seq + i, or -1 when not received; @arrival_us[0]
 * must be >= 0. Writes as many packets as fit in @cap and in the delta range
 * and stores that number in *@n_written. */
int cs_rtcp_write_twcc (guint8 *buf, gsize cap, guint32 sender_ssrc, guint32 media_ssrc,
                        guint8 fb_pkt_count, guint16 base_seq,
                        const gint64 *arrival_us, guint n, guint *n_written);

typedef struct {
  guint16 base_seq;
  guint16 status_count;     /* packets the feedback covers, from @base_seq */
  guint32 ref_time;         /* 24-bit reference time as sent, 64 ms units */
  guint8 fb_pkt_count;
} CsRtcpTwcc;

/* Decodes transport-wide CC feedback (RTPFB fmt 15). Fills @out and, for
 * the first min(status_count, @max) packets, @arrival_us[i] with the
 * arrival time of @base_seq + i in µs (ref_time * 64000 plus the receive
 * deltas, i.e. in the sender's time base modulo 2^24 * 64 ms) or -1 when
 * not received (times are multiples of 250, so -1 is unambiguous; negative
 * deltas may take them below 0). Returns the number of entries stored,
 * -EINVAL when the chunks, deltas or lengths are inconsistent. */
int cs_rtcp_parse_twcc (const CsRtcpFb *fb, CsRtcpTwcc *out, gint64 *arrival_us, guint max);

G_END_DECLS
