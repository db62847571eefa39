#!/usr/bin/env bash
# Regenerates the demo's sample media (committed; run by hand, not by the
# build). Needs ffmpeg with libx264 and libvpx. Total size stays well under
# 2 MB: 6 seconds of a test pattern with a 440 Hz tone.
#
#   progressive.webm  VP9 + Opus, for the <video> element
#   hls/              master.m3u8, two variants:
#                     360p/ MPEG-TS segments; 180p/ fMP4 segments (EXT-X-MAP)
#   dash/             manifest.mpd, SegmentTemplate, two video representations + audio
set -euo pipefail
cd "$(dirname "$0")"
rm -rf progressive.webm hls dash
src=(-f lavfi -i "testsrc2=size=640x360:rate=24:duration=6" -f lavfi -i "sine=frequency=440:duration=6")
q=(-hide_banner -loglevel error)

ffmpeg "${q[@]}" "${src[@]}" -vf scale=320:180 -c:v libvpx-vp9 -b:v 150k -deadline good -cpu-used 4 \
  -c:a libopus -b:a 32k -shortest progressive.webm

mkdir -p hls/360p hls/180p
x264=(-c:v libx264 -preset veryfast -profile:v main -g 48 -keyint_min 48 -sc_threshold 0 -c:a aac -b:a 48k -ac 1)
ffmpeg "${q[@]}" "${src[@]}" "${x264[@]}" -b:v 300k -vf scale=640:360 \
  -f hls -hls_time 2 -hls_playlist_type vod -hls_segment_filename 'hls/360p/seg-%03d.ts' hls/360p/index.m3u8
ffmpeg "${q[@]}" "${src[@]}" "${x264[@]}" -b:v 120k -vf scale=320:180 \
  -f hls -hls_time 2 -hls_playlist_type vod -hls_segment_type fmp4 -hls_fmp4_init_filename init.mp4 \
  -hls_segment_filename 'hls/180p/seg-%03d.m4s' hls/180p/index.m3u8
cat > hls/master.m3u8 <<'M3U8'
#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=420000,AVERAGE-BANDWIDTH=380000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2"
360p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=200000,AVERAGE-BANDWIDTH=170000,RESOLUTION=320x180,CODECS="avc1.4d400c,mp4a.40.2"
180p/index.m3u8
M3U8

mkdir -p dash
ffmpeg "${q[@]}" "${src[@]}" -map 0:v -map 0:v -map 1:a \
  -c:v libx264 -preset veryfast -profile:v main -g 48 -keyint_min 48 -sc_threshold 0 \
  -b:v:0 300k -s:v:0 640x360 -b:v:1 120k -s:v:1 320x180 -c:a aac -b:a 48k -ac 1 \
  -f dash -seg_duration 2 -use_template 1 -use_timeline 1 \
  -init_seg_name 'init-$RepresentationID$.m4s' -media_seg_name 'seg-$RepresentationID$-$Number%03d$.m4s' \
  -adaptation_sets "id=0,streams=v id=1,streams=a" dash/manifest.mpd

du -sh . ; find . -type f | sort
