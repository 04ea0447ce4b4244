# The evaluation's plots (bench/run_evaluation.sh), from the data files bench/evaluation_main.cc
# writes with --plot_data=PREFIX. Call:
#   gnuplot -e "prefix='PREFIX'; regions=N; placements='fra iad ...'; title='...'" plots.gp
# Writes PREFIX-demand.png (two weeks of the held-out half: demand by origin region, and below it
# the placement each policy served from) and PREFIX-cost.png (cumulative cost per policy).
set terminal pngcairo size 1000,700 font ",9"
set datafile commentschars "#"

set output prefix."-demand.png"
set multiplot layout 2,1 title title
set xrange [0:*]
set xlabel "hour of the held-out half"
set ylabel "requests per hour"
set key outside right
plot for [r=2:regions+1] prefix."-demand.dat" using 1:r with lines title columnhead(r)
set ylabel "policy (colour: placement)"
set yrange [0.5:4.5]
set ytics ("static" 1, "reactive" 2, "predictive" 3, "oracle" 4)
n = words(placements)
# Exactly one colour per placement (a palette with more would be resampled into blends).
colours = "#1b9e77 #d95f02 #7570b3 #e7298a #66a61e #e6ab02 #a6761d #666666"
palette = ""
do for [i=1:n] { palette = palette.sprintf("%s%d '%s'", i > 1 ? ", " : "", i, word(colours, i)) }
eval("set palette defined (".palette.")")
set cbrange [0.5:n+0.5]
set palette maxcolors n
set cbtics ()
set for [i=1:n] cbtics add (word(placements, i) i)
set cblabel "placement"
unset key
plot for [p=1:4] prefix."-demand.dat" using 1:(p):(0.5):(0.4):(column(regions+1+p)) \
  with boxxyerror fillstyle solid noborder lc palette
unset multiplot

set output prefix."-cost.png"
set title title
set xlabel "hour of the held-out half"
set ylabel "cumulative cost ($)"
set key left top
unset ytics
set ytics
set autoscale y
plot for [p=2:5] prefix."-cost.dat" using 1:p with lines lw 2 title columnhead(p)
