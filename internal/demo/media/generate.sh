#!/usr/bin/env bash
# Generates the demo's sample media: 6 seconds of a test pattern with a
# 440 Hz tone, well under 2 MB. The copies committed beside this script
# were made by running it without arguments (by hand, not by the build;
# needs ffmpeg with libx264, libvpx and libopus). Tests that need a longer
# stream run it into a temporary directory:
#
#   generate.sh [DIR [SECONDS [KINDS]]]
#
# (default: this directory, 6 seconds, KINDS "progressive hls dash").
#
#   progressive.webm  VP9 + Opus, for the <video> element
#   hls/              master.m3u8 and two variants, 360p/ and 180p/, both
#                     fMP4 (init.mp4 + .m4s segments, EXT-X-MAP) with H.264
#                     and AAC: one kind of segment, so a player may switch
#                     between them (a master mixing TS and fMP4 variants
#                     stalls hls.js at the first switch)
#   dash/             manifest.mpd, SegmentTemplate with a timeline, two
#                     video representations and one audio
#
# Every segment is 2 seconds, a keyframe every 48 frames at 24 fps. The
# encodes run side by side. X264_PRESET (default veryfast) trades size for
# encoding time: the tests' longer samples use ultrafast.
set -euo pipefail
out=${1:-$(dirname "$0")}
secs=${2:-6}
mkdir -p "$out"
cd "$out"
rm -rf progressive.webm hls dash
src=(-f lavfi -i "testsrc2=size=640x360:rate=24:duration=$secs" -f lavfi -i "sine=frequency=440:duration=$secs")
q=(-nostdin -hide_banner -loglevel error)

kinds=" ${3:-progressive hls dash} "

if [[ $kinds == *" progressive "* ]]; then
  ffmpeg "${q[@]}" "${src[@]}" -vf scale=320:180 -c:v libvpx-vp9 -b:v 150k -deadline good -cpu-used 4 \
    -c:a libopus -b:a 32k -shortest progressive.webm &
fi

x264=(-c:v libx264 -preset "${X264_PRESET:-veryfast}" -profile:v main -g 48 -keyint_min 48 -sc_threshold 0 -c:a aac -b:a 48k -ac 1)
hls=(-f hls -hls_time 2 -hls_playlist_type vod -hls_segment_type fmp4 -hls_fmp4_init_filename init.mp4)
if [[ $kinds == *" hls "* ]]; then
mkdir -p hls/360p hls/180p
ffmpeg "${q[@]}" "${src[@]}" "${x264[@]}" -b:v 300k -vf scale=640:360 "${hls[@]}" \
  -hls_segment_filename 'hls/360p/seg-%03d.m4s' hls/360p/index.m3u8 &
ffmpeg "${q[@]}" "${src[@]}" "${x264[@]}" -b:v 120k -vf scale=320:180 "${hls[@]}" \
  -hls_segment_filename 'hls/180p/seg-%03d.m4s' hls/180p/index.m3u8 &
cat > hls/master.m3u8 <<'M3U8'
#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=420000,AVERAGE-BANDWIDTH=380000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2"
360p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=200000,AVERAGE-BANDWIDTH=170000,RESOLUTION=320x180,CODECS="avc1.4d400c,mp4a.40.2"
180p/index.m3u8
M3U8
fi

if [[ $kinds == *" dash "* ]]; then
mkdir -p dash
ffmpeg "${q[@]}" "${src[@]}" -map 0:v -map 0:v -map 1:a \
  -c:v libx264 -preset "${X264_PRESET:-veryfast}" -profile:v main -g 48 -keyint_min 48 -sc_threshold 0 \
  -b:v:0 300k -s:v:0 640x360 -b:v:1 120k -s:v:1 320x180 -c:a aac -b:a 48k -ac 1 \
  -f dash -seg_duration 2 -use_template 1 -use_timeline 1 \
  -init_seg_name 'init-$RepresentationID$.m4s' -media_seg_name 'seg-$RepresentationID$-$Number%03d$.m4s' \
  -adaptation_sets "id=0,streams=v id=1,streams=a" dash/manifest.mpd &
fi

# Wait for every encode, and fail if any failed.
for job in $(jobs -p); do wait "$job"; done
