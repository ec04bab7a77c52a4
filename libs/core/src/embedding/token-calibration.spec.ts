import { TokenCalibration } from './token-calibration';

describe('TokenCalibration', () => {
  it('leaves counts unchanged until a few thousand tokens were reported', () => {
    const calibration = new TokenCalibration();
    calibration.observe(1_000, 750);
    expect(calibration.ratio).toBeUndefined();
    expect(calibration.apply(400)).toBe(400);
  });

  it('applies reported over counted tokens, summed over the requests seen', () => {
    const calibration = new TokenCalibration();
    calibration.observe(1_500, 1_200);
    calibration.observe(2_500, 1_800);
    expect(calibration.ratio).toBeCloseTo(3_000 / 4_000, 10);
    expect(calibration.apply(1_000)).toBeCloseTo(750, 10);
  });

  it('follows the recent requests: old ones leave the window', () => {
    const calibration = new TokenCalibration();
    for (let i = 0; i < 64; i++) calibration.observe(1_000, 500);
    for (let i = 0; i < 64; i++) calibration.observe(1_000, 900);
    expect(calibration.ratio).toBeCloseTo(0.9, 10);
  });

  it('ignores answers without usage and keeps the ratio within bounds', () => {
    const calibration = new TokenCalibration();
    calibration.observe(5_000, 0);
    calibration.observe(5_000, Number.NaN);
    calibration.observe(0, 100);
    expect(calibration.ratio).toBeUndefined();
    calibration.observe(5_000, 1);
    expect(calibration.ratio).toBe(0.2);
    const high = new TokenCalibration();
    high.observe(5_000, 1_000_000);
    expect(high.ratio).toBe(5);
  });
});
