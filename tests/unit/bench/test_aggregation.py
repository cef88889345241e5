"""The pure parts of the benchmarks: figures and targets from raw counts."""

import testtools

from bench import fleet_bench
from bench import fleet_worker
from bench import poll_bench


def _figures(drivers=4, background=0, cycle=12, recovered=(1.0, 2.5),
             logons=4, sessions=4, requests=40, job_polls=12):
    return fleet_bench.mode_figures(
        drivers,
        build={'requests': 100, 'job_polls': job_polls, 'seconds': 20.0},
        steady={'background': background, 'window': 10.0, 'cycle': cycle},
        restart={'up_at': 100.0,
                 'recovered_at': [100.0 + r for r in recovered],
                 'requests': requests, 'logons': logons},
        sessions=sessions)


class FleetFiguresTest(testtools.TestCase):

    def test_steady_rate_adds_the_periodic_round_per_interval(self):
        # 5 requests in 10 s by themselves, 30 per 60 s round of Nova tasks.
        self.assertEqual(1.0, fleet_bench.steady_rate(5, 10.0, 30, 60.0))
        self.assertEqual(0.2, fleet_bench.steady_rate(0, 10.0, 12, 60.0))

    def test_build_figures_are_per_driver_and_per_second(self):
        figures = _figures()
        self.assertEqual(25.0, figures['requests_per_build'])
        self.assertEqual(3.0, figures['job_polls_per_build'])
        self.assertEqual(5.0, figures['requests_per_s_builds'])
        self.assertEqual(1.0, figures['sessions_per_driver'])

    def test_recovery_is_the_last_driver_working_again(self):
        figures = _figures(recovered=(0.4, 2.5, 1.0), requests=50,
                           logons=8)
        self.assertEqual(2.5, figures['recovery_s'])
        self.assertEqual(1.0, figures['recovery_median_s'])
        self.assertEqual(20.0, figures['storm_requests_per_s'])
        self.assertEqual(2.0, figures['logons_per_recovery'])

    def test_per_second_of_nothing_is_unknown(self):
        self.assertIsNone(fleet_bench.per_second(3, 0))


class StartJobsTest(testtools.TestCase):

    def test_evenly_spaced_from_the_shortest_to_the_longest(self):
        self.assertEqual([10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
                         fleet_bench.start_jobs(6))
        durations = fleet_bench.start_jobs(20)
        self.assertEqual((10.0, 60.0), (durations[0], durations[-1]))
        self.assertEqual(35.0, round(sum(durations) / 20, 3))

    def test_one_driver_gets_the_middle(self):
        self.assertEqual([35.0], fleet_bench.start_jobs(1))


class NotifiedJobPollsTest(testtools.TestCase):

    def test_a_30s_start_costs_what_requests_per_job_30s_allows(self):
        self.assertEqual(poll_bench.NOTIFIED_REQUESTS,
                         fleet_bench.notified_job_polls(30.0))

    def test_guards_at_15_22_5_33_75_and_50_6_s(self):
        self.assertEqual(
            [1, 1, 2, 2, 3, 3, 4, 4, 5],
            [fleet_bench.notified_job_polls(d) for d in (
                10, 15, 15.1, 22.5, 22.6, 33.75, 33.8, 50.6, 60)])

    def test_the_target_is_the_mean_over_the_spread(self):
        # 20 starts from 10 to 60 s: 2 x 1, 3 x 2, 5 x 3, 6 x 4, 4 x 5.
        self.assertEqual(3.35, fleet_bench.notified_target(
            fleet_bench.start_jobs(20)))


class FleetMetricsTest(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.results = fleet_bench.fleet_metrics({
            fleet_worker.NAIVE: _figures(cycle=120, sessions=4, logons=4),
            fleet_worker.POLLING: _figures(cycle=8, sessions=8, logons=8,
                                           job_polls=80),
            fleet_worker.NOTIFICATIONS: _figures(cycle=8, sessions=12,
                                                 logons=8),
        }, drivers=4)

    def test_three_runs_side_by_side(self):
        metric = self.results['fleet4_requests_per_s_steady']
        self.assertEqual(0.133, metric['value'])
        self.assertEqual(0.133, metric['polling'])
        self.assertEqual(2.0, metric['baseline'])
        # 4 drivers, each within its periodic cycle target once a minute.
        self.assertEqual(0.2, metric['target'])

    def test_logon_target_is_the_sessions_each_driver_held(self):
        metric = self.results['fleet4_logons_per_recovery']
        self.assertEqual(3.0, metric['target'])
        self.assertEqual(2.0, metric['value'])

    def test_build_target_is_polling_without_its_job_polls_plus_notified(
            self):
        # Starts of 10, 26.7, 43.3 and 60 s: 1, 3, 4 and 5 job GETs at the
        # least with notifications.
        self.assertEqual(3.25, self.results['fleet4_job_polls_per_build'][
            'target'])
        # Polling: 25 requests a build, 20 of them job polls.
        metric = self.results['fleet4_requests_per_build']
        self.assertEqual(8.25, metric['target'])
        self.assertEqual(25.0, metric['polling'])

    def test_recovery_target_and_informational_figures(self):
        self.assertEqual(5.0, self.results['fleet4_recovery_s']['target'])
        self.assertIsNone(self.results['fleet4_sessions_held']['target'])
        self.assertEqual(12, self.results['fleet4_sessions_held']['value'])


class PollsNeededTest(testtools.TestCase):

    def test_steps_of_a_quarter_second_then_ten_percent(self):
        # 0, 0.25 ... 2.5 (11 polls), then 2.5 x 1.1^27 >= 30: 38.
        self.assertEqual(38, poll_bench.polls_needed(30))
        self.assertEqual(9, poll_bench.polls_needed(2))
        self.assertEqual(1, poll_bench.polls_needed(0))

    def test_grows_with_the_logarithm_of_the_duration(self):
        self.assertLessEqual(poll_bench.polls_needed(600) -
                             poll_bench.polls_needed(300), 8)

    def test_ramp_of_the_poll_schedule(self):
        # 50, 100 and 200 ms before the 0.25 s floor.
        self.assertEqual(3, poll_bench.ramp_polls())
